#include "spgen.h"

int main(int argc, char **argv)
{
    return spgen_main(argc, argv);
}
