/*
 * main.c: the ggufd entry point.  Everything lives in cli.c so the tests
 * can link the same code from the convenience library.
 */
#include "config.h"

#include "cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
