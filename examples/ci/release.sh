#!/usr/bin/env bash
# Release VERSION of the app at APP_PATH through a pull request on the manifest repository:
# `bgrender release` edits one line of bluegreen.yaml, then one commit on a new branch, a push
# and a pull request. It needs git, bgrender and (to open the pull request) gh with a token.
# No kubectl, no cloud CLI, no kubeconfig: which color is idle is read from the file in Git.
#
# Run it from a checkout of the manifest repository:
#   ci/release.sh "$GITHUB_SHA" apps/gorilla-sfx-demo
#
# Environment:
#   BASE_BRANCH  branch the pull request targets (default: the checked-out branch)
#   REMOTE       remote to push to (default: origin)
#   BGRENDER     the bgrender command (default: bgrender)
#   GH_TOKEN     if set and gh is installed, the pull request is opened with gh; otherwise
#                the branch is pushed and its name printed
#
# Output: the commit message on stdout (nothing when there was nothing to release); the rest,
# including the pull request's address, on stderr.
# Exit status: 0 released (or nothing to do); 1 bgrender refused the release (nothing pushed);
# anything else from git or gh.
set -euo pipefail

usage() { echo "usage: $0 VERSION [APP_PATH]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
version=$1
app=${2:-.}
remote=${REMOTE:-origin}
base=${BASE_BRANCH:-$(git rev-parse --abbrev-ref HEAD)}
bgrender=${BGRENDER:-bgrender}

if [ -d "$app" ]; then intent=$app/bluegreen.yaml; else intent=$app; fi
app_name=$(basename "$(cd "$(dirname "$intent")" && pwd)")
# A digest (sha256:...) holds a colon, which a branch name cannot.
branch="release/$app_name/${version//[^A-Za-z0-9._-]/-}"

# The only line on stdout is the commit message; an empty one means nothing to release.
message=$("$bgrender" release "$version" "$app")
if [ -z "$message" ]; then
    echo "release.sh: nothing to commit" >&2
    exit 0
fi

git checkout --quiet -b "$branch"
git add -- "$intent"
git commit --quiet -m "$message"
git push --quiet "$remote" "$branch"

if [ -n "${GH_TOKEN:-}" ] && command -v gh >/dev/null; then
    gh pr create --base "$base" --head "$branch" --title "$message" \
        --body "Edited by \`bgrender release $version $app\`. Merge to deploy; Argo CD syncs the change." >&2
else
    echo "release.sh: pushed $branch; open a pull request from it into $base" >&2
fi
echo "$message"
