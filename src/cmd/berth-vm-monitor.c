/* berth-vm-monitor.c — main() of a running VM's supervisor (src/vm/supervise.c). */
#include "vm/vm_internal.h"

int main(int argc, char **argv)
{
        return vm_supervise_main(argc, argv);
}
