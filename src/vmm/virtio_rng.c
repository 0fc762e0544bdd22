/* virtio_rng.c — virtio entropy device (device id 4): fills each writable
 * buffer the guest posts with bytes from the host's getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "common/util.h"
#include "vmm/virtio_devices.h"

#define RNG_MAX_PER_REQUEST (64u * 1024)

struct virtio_rng {
        uint64_t bytes_served; /* metrics */
};

static int rng_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_rng *rng = opaque;
        uint64_t done = 0;
        for (unsigned i = e->n_out; i < e->n_out + e->n_in && done < RNG_MAX_PER_REQUEST; i++) {
                size_t want = e->iov[i].iov_len;
                if (want > RNG_MAX_PER_REQUEST - done)
                        want = RNG_MAX_PER_REQUEST - done;
                ssize_t r = getrandom(e->iov[i].iov_base, want, 0);
                if (r < 0)
                        break;
                done += (uint64_t) r;
                if ((size_t) r < want)
                        break;
        }
        rng->bytes_served += done;
        return (int) done;
}

static void rng_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        virtio_mmio_serve(t, q, rng_request);
        (void) dev;
}

static void rng_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        (void) dev;
        (void) off;
        (void) data;
        (void) len; /* no config space */
}

static void rng_destroy(void *dev)
{
        free(dev);
}

static void rng_metrics(void *dev, virtio_metric_fn put, void *ctx)
{
        const struct virtio_rng *rng = dev;
        put(ctx, "bytes", rng->bytes_served);
}

static const struct virtio_dev_ops rng_ops = {
        .name = "rng",
        .device_id = 4,
        .n_queues = 1,
        .config_size = 0,
        .config_read = rng_config_read,
        .queue_notify = rng_notify,
        .destroy = rng_destroy,
        .metrics = rng_metrics,
};

int virtio_rng_add(struct vmm_vm *vm, berth_error_t *err)
{
        struct virtio_rng *rng = berth_xcalloc(1, sizeof(*rng));
        return virtio_mmio_add(vm, &rng_ops, rng, NULL, err); /* teardown frees on failure */
}
