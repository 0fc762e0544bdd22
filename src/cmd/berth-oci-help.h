/* berth-oci-help.h — berth-oci's help texts (berth-oci-help.c). */
#ifndef BERTH_CMD_BERTH_OCI_HELP_H
#define BERTH_CMD_BERTH_OCI_HELP_H

#include <stdio.h>

/* CMD --help: NAME, USAGE, DESCRIPTION and OPTIONS, as runc lays them out. */
void oci_help_command(const char *cmd, FILE *out);
/* "Incorrect Usage." and the command's help, what runc prints for a usage error. */
void oci_help_incorrect(const char *cmd, FILE *out);
/* berth-oci --help */
void oci_help_main(FILE *out, const char *version);

#endif
