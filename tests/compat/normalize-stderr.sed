# normalize-stderr.sed — applied to stderr only, after normalize.sed (sed -E).
# Docker's usage hints after an error; berth's one-line form of the same hint
/^Usage: +(docker|berth) /d
/^Run '(docker|berth) .*--help' for more information/d
/^See '(docker|berth) .*--help'/d
s/ \(see `berth [a-z -]+--help`\)$//
# the program's own name where a message quotes a command line ("'docker rm' requires …",
# "unknown command: docker system bogus")
s/(^|[^a-zA-Z0-9_-])(docker|berth) /\1<cli> /g
# who speaks: "docker: ", "berth: ", the docker CLI's "Error response from daemon: " and "Error: "
:strip
s/^(docker|berth): //
t strip
s/^Error response from daemon: //
t strip
s/^Error: //
t strip
# Go template failures name Go's types and positions ("executing "" at <.Nope>: can't evaluate
# field Nope in type *formatter.ContainerContext"): that a template failed is compared, not how
s/^(failed to (parse|execute) template|template parsing error|template)[: ].*/<template error>/
# berth ends an error with its errno's text (docs/exit-codes.md); Docker's messages don't
s/: (Invalid argument|No such file or directory|Device or resource busy|File exists|Operation not permitted|No such process|Permission denied|Not a directory|Is a directory|Directory not empty|Resource temporarily unavailable|Input\/output error)$//
