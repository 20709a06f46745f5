#!/bin/sh
# Writes nfpm's changelog (chglog YAML) for this version from the git log.
version=$1
date=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
echo "- semver: $version"
echo "  date: $date"
echo "  packager: podunit developers <podunit@example.org>"
echo "  deb:"
echo "    urgency: medium"
echo "    distributions: [unstable]"
echo "  changes:"
git log -5 --format='%h %s' 2>/dev/null | while read -r hash subject; do
  subject=$(printf '%s' "$subject" | cut -c1-70 | sed 's/"/\\"/g')
  echo "    - commit: $hash"
  echo "      note: \"$subject\""
done
