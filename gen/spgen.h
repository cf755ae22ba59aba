/* The generator as a function: the command line in, an exit code out
   (0 ok, 1 spec, weights or output error, 2 usage). main() is a thin
   wrapper, and the fuzz harnesses call it directly. One exception: a spec
   that overruns its CPU-time limit inside C (a runaway string pattern) ends
   the process with exit status 1, since nothing else can interrupt the
   pattern matcher. */
#ifndef SPGEN_SPGEN_H
#define SPGEN_SPGEN_H

#define SPGEN_VERSION "0.1.0"

int spgen_main(int argc, char **argv);

#endif
