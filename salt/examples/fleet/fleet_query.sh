#!/bin/sh
# On the Salt master: which minions and virtualenvs run django < 4.2.16?
# Answered from the mine (mine.conf on the minions), without running anything on them:
#
#   salt/examples/fleet/fleet_query.sh 'django<4.2.16' 'requests==2.25.*'
#
# Exit status as venvaudit query: 0 no match, 1 a match, 2 an incomplete answer (minions
# without usable facts are listed under hosts_unknown; pass --hosts with the expected minion
# ids, e.g. from `salt-run manage.present`, to list minions that never published).
set -eu
out=${VENVAUDIT_MINE_FILE:-/var/tmp/venvaudit-mine.json}
# Refresh first when wanted: salt '*' mine.update
salt-run mine.get '*' venvaudit_compact --out json >"$out"
exec venvaudit query "$@" --from-facts "$out" --format json
