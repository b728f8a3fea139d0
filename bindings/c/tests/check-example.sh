#!/bin/sh
# Runs the recognize example and checks its behaviour and output format.
#   tests/check-example.sh BUILD_DIR/recognize TESTS_DATA_DIR
# Output lines: FILE<TAB>CHAR<TAB>PROBABILITY<TAB>CAND:PROB ... (probabilities with 4 decimals).
set -u
exe=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
error() { echo "check-example: FAIL: $*" >&2; fail=1; }

# Format of one output line: $1 line, $2 expected file, $3 expected char ("*": any text matching
# $5), $4 expected number of candidates ("<=N": 1 to N), $5 allowed candidate texts (an awk regex).
check_line() {
    printf '%s\n' "$1" | awk -F '\t' -v file="$2" -v char="$3" -v k="$4" -v allowed="$5" '
        function prob(p) { return p ~ /^(0\.[0-9][0-9][0-9][0-9]|1\.0000)$/ }
        {
            if (k ~ /^<=/) { max = substr(k, 3) + 0; if (NF < 4 || NF > 3 + max) { print "expected 4 to " 3 + max " fields, got " NF; bad = 1 } }
            else if (NF != 3 + k) { print "expected " 3 + k " fields, got " NF; bad = 1 }
            if ($1 != file) { print "field 1 is \"" $1 "\", expected \"" file "\""; bad = 1 }
            if (char == "*" && $2 !~ allowed) { print "text \"" $2 "\" outside " allowed; bad = 1 }
            if (char != "*" && $2 != char) { print "recognised \"" $2 "\", expected \"" char "\""; bad = 1 }
            if (!prob($3)) { print "bad probability \"" $3 "\""; bad = 1 }
            last = 2
            for (i = 4; i <= NF; i++) {
                n = split($i, kv, ":")
                if (n != 2 || kv[1] == "" || !prob(kv[2])) { print "bad candidate \"" $i "\""; bad = 1; continue }
                if (kv[1] !~ allowed) { print "candidate \"" kv[1] "\" outside " allowed; bad = 1 }
                if (kv[2] + 0 > last + 0) { print "candidates not sorted best first"; bad = 1 }
                last = kv[2]
                if (i == 4 && (kv[1] != $2 || kv[2] != $3)) { print "first candidate is not the result"; bad = 1 }
            }
        }
        END { exit bad }' >&2 || error "line '$1'"
}

# 1. One good file, default options: 5 candidates.
out=$("$exe" "$data/seven.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc for a good file: $(cat "$tmp/err")"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || error "expected 1 line, got: $out"
check_line "$out" "$data/seven.png" 7 5 '^[0-9A-Z]$'
[ -s "$tmp/err" ] && error "stderr not empty: $(cat "$tmp/err")"

# 2. Options: top-k and a charset restriction.
out=$("$exe" -k 3 -c 0123456789 "$data/four.png" "$data/seven.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc with -k 3 -c: $(cat "$tmp/err")"
check_line "$(printf '%s\n' "$out" | sed -n 1p)" "$data/four.png" 4 3 '^[0-9]$'
check_line "$(printf '%s\n' "$out" | sed -n 2p)" "$data/seven.png" 7 3 '^[0-9]$'

# 2b. The same options in their long forms (getopt_long), "--" before a file, and --help.
out=$("$exe" --top-k=3 --charset 0123456789 -- "$data/four.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc with --top-k=3 --charset: $(cat "$tmp/err")"
check_line "$out" "$data/four.png" 4 3 '^[0-9]$'
"$exe" --help >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "^usage: " "$tmp/out" || error "--help: exit status $rc, output: $(cat "$tmp/out")"
"$exe" --no-such-option "$data/seven.png" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for an unknown option, expected 2"
"$exe" "$data/seven.png" -k >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || error "exit status $rc for a file named -k after a file, expected 1 (options come first)"

# 3. Line and auto modes: the text of a word, its alternative readings (format only: the accuracy
#    of the models is measured elsewhere). Free text (the text-line model: case, spaces,
#    punctuation), and a code (charset alnum: the line model, digits and capitals only).
out=$("$exe" -M line -k 3 "$data/word.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc with -M line: $(cat "$tmp/err")"
check_line "$out" "$data/word.png" '*' '<=3' '^[ -~]+$'
out=$("$exe" -M line -k 3 -c alnum "$data/word.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc with -M line -c alnum: $(cat "$tmp/err")"
check_line "$out" "$data/word.png" '*' '<=3' '^[0-9A-Z]+$'
out=$("$exe" -M auto "$data/seven.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] || error "exit status $rc with -M auto: $(cat "$tmp/err")"
check_line "$out" "$data/seven.png" 7 '<=5' '^[0-9A-Z]+$'
"$exe" -M nonsense "$data/seven.png" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for a bad mode, expected 2"

# 4. Failing files are reported on stderr, the others still processed, exit status 1.
printf 'not an image' > "$tmp/garbage.png"
out=$("$exe" "$data/seven.png" "$tmp/missing.png" "$tmp/garbage.png" "$data/four.png" 2>"$tmp/err"); rc=$?
[ $rc -eq 1 ] || error "exit status $rc with failing files, expected 1"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || error "expected 2 result lines, got: $out"
check_line "$(printf '%s\n' "$out" | sed -n 1p)" "$data/seven.png" 7 5 '^[0-9A-Z]$'
check_line "$(printf '%s\n' "$out" | sed -n 2p)" "$data/four.png" 4 5 '^[0-9A-Z]$'
[ "$(wc -l < "$tmp/err")" -eq 2 ] || error "expected 2 error lines, got: $(cat "$tmp/err")"
grep -q "^$tmp/missing.png: .\{1,\}: .\{1,\}" "$tmp/err" || error "no 'file: status: message' line for the missing file"
grep -q "^$tmp/garbage.png: .\{1,\}: .\{1,\}" "$tmp/err" || error "no 'file: status: message' line for the garbage file"

# 5. Engine errors and usage errors: exit status 2.
"$exe" -m "$tmp/no-model.hwrm" "$data/seven.png" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for a missing model, expected 2"
grep -q "no-model.hwrm: .\{1,\}: .\{1,\}" "$tmp/err" || error "missing model not reported: $(cat "$tmp/err")"
"$exe" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc without arguments, expected 2"
"$exe" -k 0 "$data/seven.png" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || error "exit status $rc for -k 0, expected 2"

if [ $fail -eq 0 ]; then echo "check-example: OK"; fi
exit $fail
