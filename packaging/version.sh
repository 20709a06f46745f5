#!/bin/sh
# The package version, from git: a tag vX.Y.Z gives X.Y.Z; otherwise
# 0.1.0~git<commit date>.<short hash>, which sorts before 0.1.0.
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
  echo "${tag#v}"
elif hash=$(git rev-parse --short=8 HEAD 2>/dev/null); then
  echo "0.1.0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M).$hash"
else
  echo "0.1.0~dev"
fi
