/* version.c — what `berth version` reports, in Docker's document shape. */
#include "engine/version.h"

#include <sys/utsname.h>

#include "image/image.h"

/* Docker's "Go version" field: berth's toolchain, as it is. */
#ifdef __clang__
#define ENG_COMPILER "C (clang " __clang_version__ ")"
#else
#define ENG_COMPILER "C (gcc " __VERSION__ ")"
#endif

#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT ""
#endif

json_t *eng_version_info(void)
{
        struct utsname u;
        const char *kernel = uname(&u) == 0 ? u.release : "";
        const char *arch = img_host_arch();
        json_t *client =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", BERTH_VERSION,
                          "ApiVersion", ENG_API_VERSION, "DefaultAPIVersion", ENG_API_VERSION,
                          "GitCommit", BERTH_GIT_COMMIT, "GoVersion", ENG_COMPILER, "Os", "linux",
                          "Arch", arch, "BuildTime", "", "Context", "default");
        json_t *details =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion",
                          ENG_API_VERSION, "Arch", arch, "BuildTime", "", "Experimental", "false",
                          "GitCommit", BERTH_GIT_COMMIT, "GoVersion", ENG_COMPILER, "KernelVersion",
                          kernel, "MinAPIVersion", ENG_MIN_API_VERSION, "Os", "linux");
        json_t *server = json_pack(
                "{s:{s:s}, s:[{s:s, s:s, s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                "Platform", "Name", "berth", "Components", "Name", "Engine", "Version",
                BERTH_VERSION, "Details", details, "Version", BERTH_VERSION, "ApiVersion",
                ENG_API_VERSION, "MinAPIVersion", ENG_MIN_API_VERSION, "GitCommit",
                BERTH_GIT_COMMIT, "GoVersion", ENG_COMPILER, "Os", "linux", "Arch", arch,
                "KernelVersion", kernel, "BuildTime", "");
        return json_pack("{s:o, s:o}", "Client", client, "Server", server);
}
