/* test_detach.c — detach keys: parsing Docker's syntax, and the sequence taken out of a
 * stream that may split it anywhere. */
#include <string.h>

#include "engine/detach.h"
#include "tap.h"

static bool feed(struct eng_detach *d, const char *in, char *out, size_t *n_out)
{
        return eng_detach_filter(d, in, strlen(in), out, n_out);
}

int main(void)
{
        struct eng_detach d;
        berth_error_t err = NULL;
        char out[64];
        size_t n = 0;

        is_int(eng_detach_init(&d, NULL, &err), 0, "the default parses");
        ok(d.n == 2 && d.keys[0] == 16 && d.keys[1] == 17, "default: ctrl-p ctrl-q");
        is_int(eng_detach_init(&d, "ctrl-a,x,ctrl-@,ctrl-_", &err), 0, "letters, chars, @ and _");
        ok(d.n == 4 && d.keys[0] == 1 && d.keys[1] == 'x' && d.keys[2] == 0 && d.keys[3] == 31,
           "their bytes");
        is_int(eng_detach_init(&d, "ctrl-", &err), -1, "ctrl- alone is refused");
        ok(err && err->status == 125 &&
                   strcmp(berth_error_msg(err), "invalid detach keys (ctrl-) provided") == 0,
           "with Docker's message and 125");
        berth_error_release(&err);
        is_int(eng_detach_init(&d, "abc", &err), -1, "a word is refused");
        berth_error_release(&err);
        ok(!feed(&d, "hello", out, &n) && n == 5 && memcmp(out, "hello", 5) == 0,
           "after a refused spec nothing detaches: input passes");

        eng_detach_init(&d, NULL, &err);
        ok(!feed(&d, "ab\x10", out, &n) && n == 2 && memcmp(out, "ab", 2) == 0,
           "a partial match is held back");
        ok(!feed(&d, "c", out, &n) && n == 2 &&
                   memcmp(out,
                          "\x10"
                          "c",
                          2) == 0,
           "and passed on when the next byte breaks it");
        ok(!feed(&d, "\x10\x10", out, &n) && n == 1 && out[0] == '\x10',
           "a repeated first key: the first passes, the second is held");
        ok(feed(&d, "\x11tail", out, &n) && n == 0, "the sequence split across reads detaches");
        ok(feed(&d, "x\x10\x11y", out, &n) && n == 1 && out[0] == 'x',
           "what came before the sequence in the same read passes");
        ok(!feed(&d, "\x11", out, &n) && n == 1 && out[0] == '\x11',
           "the second key alone is input");
        return tap_done();
}
