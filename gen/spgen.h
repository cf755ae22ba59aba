/* The generator as a function: the command line in, an exit code out
   (0 ok, 1 spec or weights error, 2 usage). main() is a thin wrapper, and the
   fuzz harnesses call it directly. */
#ifndef SPGEN_SPGEN_H
#define SPGEN_SPGEN_H

int spgen_main(int argc, char **argv);

#endif
