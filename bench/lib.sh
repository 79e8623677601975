# Sourced by the bench scripts: BIN, the binary to run (ARCHSIM_BIN, e.g. a copy so
# that rebuilding meanwhile is safe, or else this tree's release build), and DIR, a
# temporary folder removed at exit.
if [ -n "${ARCHSIM_BIN:-}" ]; then
    BIN=$ARCHSIM_BIN
else
    cargo build --release --quiet
    BIN=target/release/archsim
fi
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
