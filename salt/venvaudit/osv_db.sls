{#-
  Install osv.dev's PyPI vulnerability database where venvaudit looks for it, from the master's
  file server: the minions need no internet access.

  On the master, keep the database in the file roots, refreshed daily (osv.dev exports daily;
  venvaudit warns when the newest record is older than 7 days), e.g. from cron:

    curl -fsSo /srv/salt/venvaudit/files/osv/PyPI.zip.new \
        https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip &&
      mv /srv/salt/venvaudit/files/osv/PyPI.zip.new /srv/salt/venvaudit/files/osv/PyPI.zip

  file.managed compares the master's hash of the file with the minion's copy, so a minion
  fetches and rewrites it only when it changed. Pillar (all optional):

    venvaudit:
      osv_db:
        path: /var/lib/venvaudit/osv/PyPI.zip    # where it goes; venvaudit's default location
        source: salt://venvaudit/files/osv/PyPI.zip
        # a URL source (an internal mirror) needs its hash, or skip_verify: True:
        # source: https://mirror.example.com/osv/PyPI/all.zip
        # source_hash: https://mirror.example.com/osv/PyPI/all.zip.sha256
        user: root
        group: root
        mode: '0644'
        dir_mode: '0755'
        # load the new file with venvaudit before it replaces the old one (needs the binary on
        # the minion: state venvaudit, or minion config venvaudit.binary / pillar venvaudit:binary)
        validate: False

  The CPython advisory file (CVEs of the interpreter itself; docs/cpython-db.md) is built on the
  master by venvaudit/osv_db_cpython.sls (`salt-call --local state.apply venvaudit.osv_db_cpython`
  there, from the cvelistV5 release zip) into the file roots; with cpython_sources (or
  cpython_source) in the pillar this state also installs that small file, a second state
  (venvaudit-cpython-db), where venvaudit reads it. Same user, group, modes and validate (then
  `venvaudit check --cpython-db` must load the new file before it replaces the old one):

    venvaudit:
      osv_db:
        cpython_sources: [...]                        # paths on the master (osv_db_cpython.sls)
        cpython_path: /var/lib/venvaudit/osv/CPython.json         # where it goes (the default)
        cpython_source: salt://venvaudit/files/osv/CPython.json   # the default
        # cpython_source_hash: ...                    # for a URL source, as source_hash
#}
{%- set osv = salt['pillar.get']('venvaudit:osv_db', {}) %}
{%- set path = osv.get('path', '/var/lib/venvaudit/osv/PyPI.zip') %}

venvaudit-osv-db:
  file.managed:
    - name: {{ path | json }}
    - source: {{ osv.get('source', 'salt://venvaudit/files/osv/PyPI.zip') | json }}
{%- if osv.get('source_hash') %}
    - source_hash: {{ osv.source_hash | json }}
{%- endif %}
{%- if osv.get('skip_verify') %}
    - skip_verify: True
{%- endif %}
    - user: {{ osv.get('user', 'root') | json }}
    - group: {{ osv.get('group', 'root') | json }}
    - mode: {{ osv.get('mode', '0644') | json }}
    - makedirs: True
    - dir_mode: {{ osv.get('dir_mode', '0755') | json }}
{%- if osv.get('validate', False) %}
{%- set binary = opts.get('venvaudit.binary') or salt['pillar.get']('venvaudit:binary', '/usr/local/bin/venvaudit') %}
    # Salt appends the temporary file's path, so it becomes the --osv-db value: a database venvaudit
    # cannot read (exit 2) never replaces the one in place. `--max-depth 0 /` scans nothing.
    - check_cmd: {{ binary }} check --format json --check vulnerabilities --fail-on never --no-processes --max-depth 0 / --require-osv-db --osv-db
{%- endif %}
{%- if osv.get('cpython_sources') or osv.get('cpython_source') %}

venvaudit-cpython-db:
  file.managed:
    - name: {{ osv.get('cpython_path', '/var/lib/venvaudit/osv/CPython.json') | json }}
    - source: {{ osv.get('cpython_source', 'salt://venvaudit/files/osv/CPython.json') | json }}
{%- if osv.get('cpython_source_hash') %}
    - source_hash: {{ osv.cpython_source_hash | json }}
{%- endif %}
{%- if osv.get('skip_verify') %}
    - skip_verify: True
{%- endif %}
    - user: {{ osv.get('user', 'root') | json }}
    - group: {{ osv.get('group', 'root') | json }}
    - mode: {{ osv.get('mode', '0644') | json }}
    - makedirs: True
    - dir_mode: {{ osv.get('dir_mode', '0755') | json }}
{%- if osv.get('validate', False) %}
{%- set binary = opts.get('venvaudit.binary') or salt['pillar.get']('venvaudit:binary', '/usr/local/bin/venvaudit') %}
    # Salt appends the temporary file's path, so it becomes the --cpython-db value: a file
    # venvaudit cannot load (exit 2) never replaces the one in place.
    - check_cmd: {{ binary }} check --format json --check vulnerabilities --fail-on never --no-processes --max-depth 0 / --cpython-db
{%- endif %}
{%- endif %}
