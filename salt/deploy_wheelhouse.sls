{#-
  Deploy an application's Python dependencies from a wheelhouse, behind the venvaudit gates:

    1. copy the wheelhouse (wheels plus the lock they were built for, requirements.txt, pinned
       and hashed) from the master to the minion;
    2. venvaudit.artifact_compatible: every pinned wheel must install and import into the
       minion's real virtualenv (its interpreter, glibc, libraries) and match the lock's
       hashes, with no forbidden or (with an OSV database) vulnerable release. A failing gate
       fails this state and everything after it: nothing is installed, nothing restarted;
    3. pip install --no-index --find-links WHEELHOUSE --require-hashes -r requirements.txt
       into the virtualenv, offline: exactly the gated files;
    4. restart the service (when a new wheelhouse arrived);
    5. venvaudit.compatible with lock: the virtualenv now is what the lock says (with
       verify, no installed file changed since pip wrote it).

  Pillar (all but app:release and app:wheelhouse_source have defaults):

    app:
      root: /srv/app
      venv: /srv/app/venv                   # must exist (made when the minion was set up)
      release: '2026.12.1'
      wheelhouse_source: salt://app/wheelhouses/2026.12.1   # wheels + requirements.txt
      service: app                          # or restart_command: 'supervisorctl restart app'
    venvaudit:
      artifact_gate:                        # optional request keys for both gates
        fail_on: error
        forbid: ['pyyaml<5.4']
        osv_db: /var/lib/venvaudit/osv/PyPI.zip
        ignore: [{id: artifact-sdist-only, package: example, reason: built on purpose}]

  The venvaudit binary comes from venvaudit/init.sls (included).
#}
{%- set app = salt['pillar.get']('app', {}) %}
{%- set gate = salt['pillar.get']('venvaudit:artifact_gate', {}) %}
{%- set root = app.get('root', '/srv/app') %}
{%- set venv = app.get('venv', root ~ '/venv') %}
{%- set release = app.get('release', 'unreleased') | string %}
{%- set wheelhouse = root ~ '/wheelhouses/' ~ release %}
{%- set lock = wheelhouse ~ '/requirements.txt' %}

include:
  - venvaudit

app-wheelhouse:
  file.recurse:
    - name: {{ wheelhouse | json }}
    - source: {{ app.get('wheelhouse_source', 'salt://app/wheelhouses/' ~ release) | json }}
    - makedirs: True
    - file_mode: '0644'
    - dir_mode: '0755'

app-wheelhouse-gate:
  venvaudit.artifact_compatible:
    - name: {{ lock | json }}
    - find_links: [{{ wheelhouse | json }}]
    - venv: {{ venv | json }}
{%- for key, value in gate.items() %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
    - require:
      - file: app-wheelhouse
      - file: venvaudit-binary

app-install:
  cmd.run:
    - name: >-
        {{ venv }}/bin/python -m pip install --no-index --find-links {{ wheelhouse }}
        --require-hashes --disable-pip-version-check --no-input -r {{ lock }}
    - require:
      - venvaudit: app-wheelhouse-gate

app-restart:
{%- if app.get('restart_command') %}
  cmd.run:
    - name: {{ app.restart_command | json }}
{%- else %}
  module.run:
    - service.restart:
      - name: {{ app.get('service', 'app') | json }}
{%- endif %}
    - onchanges:
      - file: app-wheelhouse
    - require:
      - cmd: app-install

app-venv-is-the-lock:
  venvaudit.compatible:
    - name: {{ venv | json }}
    - lock: {{ lock | json }}
    - verify: True
{%- for key, value in gate.items() if key in ('fail_on', 'forbid', 'osv_db', 'ignore', 'ignore_file') %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
    - require:
      - cmd: app-install
