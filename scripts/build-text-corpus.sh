#!/usr/bin/env bash
# Builds the synthetic text-line corpus for the CRNN+CTC line model: installs the handwriting fonts,
# the word list and the Python packages that scripts/text_corpus.py needs, then runs it with the
# arguments given here.
#   bash scripts/build-text-corpus.sh --out ~/hwr-corpus/v1 --seed 1
# A package that the registry does not have is skipped with a message; the builder then simply
# has one font fewer (it prints the fonts it found and used).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
    fonts-dancingscript fonts-kaushanscript fonts-kristi fonts-ecolier-court fonts-havana
    fonts-dkg-handwriting fonts-breip fonts-rufscript fonts-sjfonts fonts-comic-neue fonts-klee
    fonts-tlwg-purisa-otf fonts-dustin fonts-femkeklaver wamerican fontconfig
)
PYPI_PACKAGES=(
    Pillow numpy scipy fonttools
    fontpkg-caveat fontpkg-indie-flower fontpkg-kalam fontpkg-shadows-into-light fontpkg-zeyada
    fontpkg-satisfy fontpkg-yellowtail font-intuitive
)

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    available=()
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        # apt-cache prints "Candidate: (none)" or nothing for a package the archive lacks.
        policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
        if grep -q 'Candidate: [^(]' <<<"$policy"; then
            available+=("$pkg")
        else
            echo "build-text-corpus: Debian package $pkg does not exist here, skipped" >&2
        fi
    done
    if [ "${#available[@]}" -gt 0 ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${available[@]}" >/dev/null
    fi
else
    echo "build-text-corpus: no apt-get; using the fonts already installed" >&2
fi

# Install the Python packages one by one so that one missing package does not stop the others.
for pkg in "${PYPI_PACKAGES[@]}"; do
    if ! python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$pkg"; then
        echo "build-text-corpus: PyPI package $pkg could not be installed, skipped" >&2
    fi
done

exec python3 scripts/text_corpus.py "$@"
