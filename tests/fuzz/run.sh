#!/bin/sh
# Runs every fuzz target for FUZZ_SECONDS (default 60) each, starting from
# the seed corpus in the tree and keeping what it finds in the build
# directory.  Exits non-zero when a target finds a crash.
# usage: tests/fuzz/run.sh BUILD_DIR [TARGET...]
set -e
build=$1; shift
seconds=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-"fuzz_attr fuzz_config fuzz_address fuzz_queue_file fuzz_smtp_command"}
for t in $targets; do
	work="$build/fuzz-corpus/$t"
	mkdir -p "$work" "$build/fuzz-crashes"
	cp -n "$here/corpus/$t"/* "$work"/ 2>/dev/null || true
	echo "== $t for ${seconds}s"
	"$build/libexec/$t" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-crashes/$t-" "$work"
done
