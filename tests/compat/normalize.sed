# normalize.sed — what must differ between two engines, applied to stdout and stderr of both
# sides (sed -E). Keep it short: each rule can hide a real difference (README.md says why each).
# ids: containers, images, layers, networks (64 hex), then their short form (12 hex)
s/[0-9a-f]{64}/<ID>/g
s/\b[0-9a-f]{12}\b/<ID12>/g
# absolute times: RFC 3339 (inspect) and Go's time.String (docker's CreatedAt columns)
s/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?( ?(Z|[+-][0-9]{2}:?[0-9]{2}))?( [A-Z]{3,5})?/<TIME>/g
# durations, as Docker's units.HumanDuration writes them ("2 seconds ago", "Up About a minute")
s/(Less than a second|About an? (minute|hour)|[0-9]+ (second|minute|hour|day|week|month|year)s?)/<DURATION>/g
# sizes: the two engines measure layers differently (tar stream vs. files on disk)
s/\b[0-9]+(\.[0-9]+)?(B|kB|KB|MB|GB|TB)\b/<SIZE>/g
# table columns: their width follows the longest cell, and the rules above change lengths
s/ {3,}/   /g
s/ +$//
