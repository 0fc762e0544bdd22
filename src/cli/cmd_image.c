/* cmd_image.c — `berth image SUBCOMMAND`: Docker's management-command
 * spelling of the image commands (ls, rm, tag, inspect, history, prune, ...). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command image_commands[] = {
        {"ls", cmd_images, "List images"},
        {"list", cmd_images, NULL},
        {"rm", cmd_rmi, "Remove one or more images"},
        {"remove", cmd_rmi, NULL},
        {"tag", cmd_tag, "Create a name that refers to an image"},
        {"inspect", cmd_image_inspect, "Show images as JSON"},
        {"history", cmd_history, "Show the history of an image"},
        {"prune", cmd_image_prune, "Remove unused images"},
        {"mount", cmd_image_mount, "Mount an image's root filesystem and print its path"},
        {"unmount", cmd_image_unmount, "Unmount an image's root filesystem"},
        {"umount", cmd_image_unmount, NULL},
        {"import", cmd_import, "Create an image from a root filesystem tarball"},
        {"save", cmd_save, "Write images to a docker-archive or OCI layout"},
        {"load", cmd_load, "Load images from a docker-archive or OCI layout"},
        {"pull", cmd_pull, "Download an image from a registry"},
        {"push", cmd_push, "Upload an image to a registry"},
        {NULL, NULL, NULL},
};

static void image_usage(FILE *out)
{
        fprintf(out, "Usage: berth image COMMAND\n\nManage images.\n\nCommands:\n");
        for (size_t i = 0; image_commands[i].name; i++)
                if (image_commands[i].summary)
                        fprintf(out, "  %-9s %s\n", image_commands[i].name,
                                image_commands[i].summary);
}

int cmd_image(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                /* docker: the group's help, on stderr when no command was given, status 0 */
                image_usage(argc < 2 ? stderr : stdout);
                return 0;
        }
        for (size_t i = 0; image_commands[i].name; i++)
                if (strcmp(image_commands[i].name, argv[1]) == 0) {
                        cli_command_args(argc - 1, argv + 1);
                        return image_commands[i].run(g, argc - 1, argv + 1, err);
                }
        return berth_fail_status(err, 1, 0, "unknown command: berth image %s", argv[1]);
}
