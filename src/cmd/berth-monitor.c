/* berth-monitor.c — main() of the per-container monitor (src/engine/monitor.c). */
#include "engine/monitor.h"

int main(int argc, char **argv)
{
        return eng_monitor_main(argc, argv);
}
