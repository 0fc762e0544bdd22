/* spec_blkio.c — linux.resources.blockIO from HostConfig's block IO fields (--blkio-weight,
 * --blkio-weight-device, --device-{read,write}-{bps,iops}), with the rules of Docker's daemon:
 * what the host's cgroups can't do is dropped with Docker's warning (and HostConfig then shows
 * it dropped, as `docker inspect` does), and devices named by path reach the runtime as the
 * major:minor of the device node (stat of the path, at create). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "engine/spec_internal.h"

static bool has_file(const char *dir, const char *name)
{
        cleanup_free char *p = berth_path_join(dir, name);
        return access(p, F_OK) == 0;
}

void spec_blkio_probe(const char *cgroot, bool unified, struct spec_blkio_support *out)
{
        memset(out, 0, sizeof(*out));
        if (unified) {
                /* the io controller does all of it (io.weight, io.max), as Docker reads v2 */
                cleanup_free char *path = berth_path_join(cgroot, "cgroup.controllers");
                cleanup_free char *text = NULL;
                size_t len;
                if (berth_read_file(path, &text, &len, NULL) < 0)
                        return;
                bool io = false;
                char *save = NULL;
                for (char *w = strtok_r(text, " \n", &save); w && !io;
                     w = strtok_r(NULL, " \n", &save))
                        io = strcmp(w, "io") == 0;
                out->weight = out->weight_device = io;
                for (int k = 0; k < 4; k++)
                        out->throttle[k] = io;
                return;
        }
        cleanup_free char *dir = berth_path_join(cgroot, "blkio");
        /* blkio.weight is CFQ's; with BFQ (the only weighting scheduler of kernels ≥ 5.0) it is
         * blkio.bfq.weight, which berth-oci writes instead */
        out->weight = has_file(dir, "blkio.weight") || has_file(dir, "blkio.bfq.weight");
        out->weight_device =
                has_file(dir, "blkio.weight_device") || has_file(dir, "blkio.bfq.weight_device");
        static const char *const tf[] = {
                "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
        for (int k = 0; k < 4; k++)
                out->throttle[k] = has_file(dir, tf[k]);
}

static const char *const hc_keys[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                                      "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"};
static const char *const oci_keys[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                       "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
static const char *const discarded[] = {
        "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. "
        "Block I/O BPS read limit discarded.",
        "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. "
        "Block I/O BPS write limit discarded.",
        "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block "
        "I/O IOPS read limit discarded.",
        "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block "
        "I/O IOPS write limit discarded.",
};

/* Drop what the host can't do, warning as Docker does; then Docker's range check. */
bool spec_blkio_wanted(json_t *hc)
{
        bool any = json_integer_value(json_object_get(hc, "BlkioWeight")) > 0 ||
                   json_array_size(json_object_get(hc, "BlkioWeightDevice")) > 0;
        for (int k = 0; k < 4 && !any; k++)
                any = json_array_size(json_object_get(hc, hc_keys[k])) > 0;
        return any;
}

/* Docker's daemon warning: to the client's list, or the log without one. */
static void warn(json_t *warnings, const char *msg)
{
        if (warnings)
                json_array_append_new(warnings, json_string(msg));
        else
                log_warn("%s", msg);
}

static int adjust(json_t *hc, const struct spec_blkio_support *sup, json_t *warnings,
                  berth_error_t *err)
{
        json_int_t w = json_integer_value(json_object_get(hc, "BlkioWeight"));
        if (w > 0 && !sup->weight) {
                warn(warnings, "Your kernel does not support Block I/O weight or the cgroup is "
                               "not mounted. Weight discarded.");
                json_object_set_new(hc, "BlkioWeight", json_integer(0));
                w = 0;
        }
        if (w > 0 && (w < 10 || w > 1000))
                return berth_fail_status(err, 125, 0, "Range of blkio weight is from 10 to 1000");
        if (json_array_size(json_object_get(hc, "BlkioWeightDevice")) > 0 && !sup->weight_device) {
                warn(warnings, "Your kernel does not support Block I/O weight_device or the "
                               "cgroup is not mounted. Weight-device discarded.");
                json_object_set_new(hc, "BlkioWeightDevice", json_array());
        }
        for (int k = 0; k < 4; k++) {
                if (json_array_size(json_object_get(hc, hc_keys[k])) > 0 && !sup->throttle[k]) {
                        warn(warnings, discarded[k]);
                        json_object_set_new(hc, hc_keys[k], json_array());
                }
        }
        return 0;
}

/* {major, minor} of the device node at path (Docker: unix.Stat, st_rdev). */
static json_t *device_numbers(const char *path, berth_error_t *err)
{
        struct stat st;
        if (path == NULL || stat(path, &st) < 0) {
                berth_fail_status(err, 125, errno, "stat %s", path ? path : "(null)");
                return NULL;
        }
        return json_pack("{s:I, s:I}", "major", (json_int_t) major(st.st_rdev), "minor",
                         (json_int_t) minor(st.st_rdev));
}

int spec_build_blockio(json_t *hc, const struct spec_blkio_support *sup, json_t *resources,
                       json_t *warnings, berth_error_t *err)
{
        if (adjust(hc, sup, warnings, err) < 0)
                return -1;
        json_t *bio = json_object();
        json_int_t w = json_integer_value(json_object_get(hc, "BlkioWeight"));
        if (w > 0)
                json_object_set_new(bio, "weight", json_integer(w));
        size_t i;
        json_t *v;
        json_t *wd = json_object_get(hc, "BlkioWeightDevice");
        if (json_array_size(wd) > 0) {
                json_t *list = json_array();
                json_object_set_new(bio, "weightDevice", list);
                json_array_foreach(wd, i, v)
                {
                        json_t *d =
                                device_numbers(json_string_value(json_object_get(v, "Path")), err);
                        if (d == NULL)
                                goto fail;
                        json_object_set(d, "weight", json_object_get(v, "Weight"));
                        json_array_append_new(list, d);
                }
        }
        for (int k = 0; k < 4; k++) {
                json_t *td = json_object_get(hc, hc_keys[k]);
                if (json_array_size(td) == 0)
                        continue;
                json_t *list = json_array();
                json_object_set_new(bio, oci_keys[k], list);
                json_array_foreach(td, i, v)
                {
                        json_t *d =
                                device_numbers(json_string_value(json_object_get(v, "Path")), err);
                        if (d == NULL)
                                goto fail;
                        json_object_set(d, "rate", json_object_get(v, "Rate"));
                        json_array_append_new(list, d);
                }
        }
        if (json_object_size(bio) > 0)
                json_object_set(resources, "blockIO", bio);
        json_decref(bio);
        return 0;
fail:
        json_decref(bio);
        return -1;
}
