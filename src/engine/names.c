/* names.c — random container names (adjective_noun), Docker's habit.  The
 * word lists are berth's own: plain adjectives and animals. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "engine/names.h"

static const char *const adjectives[] = {
        "able",   "agile",  "amber",  "ancient", "azure",   "bold",   "brave",   "bright",
        "brisk",  "calm",   "candid", "clever",  "cosmic",  "crisp",  "curious", "daring",
        "deft",   "eager",  "early",  "earnest", "fancy",   "fierce", "fluent",  "frank",
        "gentle", "glad",   "golden", "grand",   "happy",   "hardy",  "honest",  "humble",
        "jolly",  "keen",   "kind",   "lively",  "loyal",   "lucid",  "lucky",   "merry",
        "mighty", "modest", "nimble", "noble",   "patient", "placid", "plucky",  "polite",
        "proud",  "quick",  "quiet",  "rapid",   "ready",   "robust", "rustic",  "serene",
        "sharp",  "shiny",  "silent", "sleek",   "smart",   "snappy", "solid",   "spry",
        "stoic",  "sturdy", "sunny",  "swift",   "tidy",    "tender", "upbeat",  "valiant",
        "vivid",  "warm",   "wise",   "witty",   "zealous", "zesty",
};

static const char *const nouns[] = {
        "albatross", "alpaca",  "antelope", "badger", "beaver",  "bison",   "bobcat",  "caribou",
        "cheetah",   "condor",  "cougar",   "coyote", "crane",   "dingo",   "dolphin", "eagle",
        "egret",     "falcon",  "ferret",   "finch",  "gazelle", "gecko",   "gibbon",  "heron",
        "hornet",    "ibex",    "ibis",     "jackal", "jaguar",  "kestrel", "koala",   "lemur",
        "leopard",   "lynx",    "magpie",   "marmot", "marten",  "meerkat", "mink",    "moose",
        "narwhal",   "newt",    "ocelot",   "orca",   "osprey",  "otter",   "panda",   "panther",
        "pelican",   "penguin", "puffin",   "quail",  "raven",   "robin",   "salmon",  "seal",
        "shrike",    "sparrow", "stork",    "swift",  "tapir",   "tern",    "toucan",  "turtle",
        "vole",      "walrus",  "weasel",   "wombat", "wren",    "yak",     "zebra",
};

void eng_name_random(char *buf, size_t len, unsigned attempt)
{
        unsigned r[2] = {0, 0};
        if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
                r[0] = (unsigned) getpid() * 2654435761u;
                r[1] = r[0] >> 7;
        }
        const char *a = adjectives[r[0] % (sizeof(adjectives) / sizeof(adjectives[0]))];
        const char *n = nouns[r[1] % (sizeof(nouns) / sizeof(nouns[0]))];
        /* after a few collisions, add a digit as Docker does */
        if (attempt >= 3)
                snprintf(buf, len, "%s_%s%u", a, n, r[0] % 10);
        else
                snprintf(buf, len, "%s_%s", a, n);
}
