#!/usr/bin/env bash
# Release VERSION of the app at APP_PATH through a pull request on the manifest repository:
# `bgrender release` edits bluegreen.yaml (and bluegreen.lock.yaml, once bgrender writes one),
# one commit on the app's release branch, a push, a pull request. It needs git, bgrender and
# (to open the pull request) gh with a token. No kubectl, no cloud CLI, no kubeconfig: which
# color is idle is read from the file in Git.
#
# Run it from a checkout of the manifest repository, on the branch the release goes into
# (or set BASE_BRANCH):
#   ci/release.sh "$GITHUB_SHA" apps/gorilla-sfx-demo
#
# One branch per app, bgrender/release/<app's path>+<hash of it>, holds the newest proposed release: the branch
# is rewritten from the base branch on every run and pushed with --force-with-lease, so a
# newer release replaces one not yet merged (one pull request per app, its title updated),
# and a re-run of a job that failed, or that succeeded, is safe. The lease is the branch as
# this run found it: should another job push it in between, this push fails and changes
# nothing. The branch belongs to this script; commits pushed to it by hand are replaced.
#
# Environment:
#   BASE_BRANCH  branch the pull request targets (default: the checked-out branch)
#   REMOTE       remote to push to (default: origin)
#   BGRENDER     the bgrender command (default: bgrender)
#   GH_TOKEN     if set and gh is installed, the pull request is opened (or updated) with gh;
#                otherwise the branch is pushed and its name printed
#   BRANCH_FILE  if set, the app's branch name is written to this file once the branch holds
#                the release (for a next step, say one that merges the pull request)
#
# Output: the commit message on stdout (nothing when there was nothing to release); the rest,
# including the pull request's address, on stderr.
# Exit status:
#   0  released: the branch holds the release and the pull request is open; or nothing to do
#   1  bgrender refused the release, or the app is invalid (nothing pushed; fix, don't retry)
#   2  usage error
#   4  push failed: the remote could not be reached, refused the push, or the branch moved
#      since this run read it (nothing changed there; re-run the job)
#   5  the branch was pushed but the pull request could not be opened (re-run the job)
#   6  any other failure (git, or bgrender failing otherwise)
# (3 is not used: to bgrender 3 and 4 are about the cluster, drift and unreadable, which a
# release from CI never reads; this script's 4 is its own, a push that failed.)
set -euo pipefail
trap 'exit 6' ERR

usage() { echo "usage: $0 VERSION [APP_PATH]" >&2; exit 2; }
fail() { echo "release.sh: $2" >&2; exit "$1"; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
version=$1
app=${2:-.}
remote=${REMOTE:-origin}
bgrender=${BGRENDER:-bgrender}
base=${BASE_BRANCH:-$(git symbolic-ref --quiet --short HEAD || true)}
[ -n "$base" ] || fail 2 "HEAD is detached: set BASE_BRANCH to the branch the release goes into"

if [ -d "$app" ]; then intent=$app/bluegreen.yaml; else intent=$app; fi
app_dir=$(dirname "$intent")

# The intent file's path in the repository names the app's branch: apps/prod/web and
# apps/staging/web are two apps, and so are apps/api and apps/api/canary, or apps/web.yaml and
# apps/api.yaml in one directory. The path's characters other than letters, digits, "_", "-"
# and "/" become "-" (so "..", a leading "." and ".lock" never reach git), and a short hash of
# the exact path follows a "+" (which no part of the path keeps): two paths never share a
# branch, and no branch is a directory of another's (git could not hold both refs). A missing
# directory is reported by bgrender below.
name=$(basename "$intent")
where=$(cd "$app_dir" 2>/dev/null && git rev-parse --show-prefix) || true
id=$(printf '%s' "$where$name" | git hash-object --stdin)
where=${where%/}
if [ "$name" != bluegreen.yaml ]; then where=${where:+$where/}${name%.*}; fi
where=${where:-$(basename "$(git rev-parse --show-toplevel)")}
branch=$(git check-ref-format --branch "bgrender/release/${where//[^A-Za-z0-9_\/-]/-}+${id:0:8}") \
    || fail 2 "cannot make a branch name of the app's path $where"
# The lock bgrender writes beside the intent file (bluegreen.yaml: bluegreen.lock.yaml; api.yaml: api.lock.yaml).
case $name in
    *.yaml|*.yml) lock=$app_dir/${name%.*}.lock.${name##*.} ;;
    *) lock=$app_dir/$name.lock ;;
esac
[ "$base" != "$branch" ] || fail 2 "run it on the branch the release goes into, not on $branch"
# Checked before the edit: a commit that fails would leave the file edited, and a re-run in
# this checkout would then find nothing to release.
{ git var GIT_AUTHOR_IDENT && git var GIT_COMMITTER_IDENT; } >/dev/null \
    || fail 6 "git needs user.name and user.email to commit"

# What production will run once this release takes it, beside what it runs now, for the pull
# request's body: the part of --dry-run before the files' own diffs.
status=0
# "--": a VERSION that begins with "-" is a version bgrender refuses, never an option.
shown=$("$bgrender" release --dry-run -- "$version" "$app" 2>/dev/null) || status=$?
production_diff=$(printf '%s\n' "$shown" | awk '/^--- / && !/^--- a\/production /{exit} {print}')

# The only line on stdout is the commit message; an empty one means nothing to release.
status=0
message=$("$bgrender" release -- "$version" "$app") || status=$?
case $status in
    0) ;;
    1|2) exit "$status" ;;  # bgrender said why on stderr and changed no file
    *) fail 6 "bgrender release failed with exit status $status" ;;
esac
if [ -z "$message" ]; then
    echo "release.sh: nothing to commit" >&2
    exit 0
fi

# Commit on the branch, started afresh from the base, and go back at once: from here on the
# checkout is the base branch, clean, so a re-run in the same checkout starts where this one did.
git checkout --quiet -B "$branch"
git add -- "$intent"
if [ -e "$lock" ]; then git add -- "$lock"; fi
git commit --quiet -m "$message"
git checkout --quiet -

# The branch as it is now on the remote: the lease, and what a re-run compares with.
heads=$(git ls-remote --heads "$remote" "refs/heads/$branch") || fail 4 "cannot reach $remote"
leased=${heads%%[[:space:]]*}
if [ -n "$leased" ]; then
    git fetch --quiet "$remote" "+refs/heads/$branch:refs/remotes/$remote/$branch" || fail 4 "cannot fetch $branch"
fi
if [ -n "$leased" ] && [ "$(git rev-parse "$leased^{tree}" "$leased^")" = "$(git rev-parse "$branch^{tree}" "$branch^")" ]; then
    # A re-run: the same change on the same base is there already; keep the commit it shows.
    echo "release.sh: $branch already holds this release" >&2
else
    git push --quiet --force-with-lease="refs/heads/$branch:$leased" "$remote" "refs/heads/$branch:refs/heads/$branch" \
        || fail 4 "push of $branch to $remote failed; nothing changed there; re-run the job"
fi

if [ -n "${BRANCH_FILE:-}" ]; then printf '%s\n' "$branch" > "$BRANCH_FILE"; fi

if [ -n "${GH_TOKEN:-}" ] && command -v gh >/dev/null; then
    body="Edited by \`bgrender release $version $app\`. Merge to deploy; Argo CD syncs the change.

What production will run once this release takes it (\`bgrender diff\`), beside what it runs now:

\`\`\`\`diff
$production_diff
\`\`\`\`"
    open_pr=$(gh pr list --head "$branch" --base "$base" --state open --json url --jq '.[0].url // ""') \
        || fail 5 "cannot list the pull requests of $branch"
    if [ -n "$open_pr" ]; then
        gh pr edit "$open_pr" --title "$message" --body "$body" >&2 || fail 5 "cannot update $open_pr"
        echo "$open_pr" >&2
    else
        gh pr create --base "$base" --head "$branch" --title "$message" --body "$body" >&2 \
            || fail 5 "pushed $branch, but cannot open its pull request"
    fi
else
    echo "release.sh: pushed $branch; open a pull request from it into $base" >&2
fi
echo "$message"
