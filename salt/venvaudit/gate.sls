{#-
  A deploy gate: venvaudit.compatible over the environments named in pillar.

    venvaudit:
      gate:
        name: /srv/app/venv        # a venv, a glob (/srv/*/venv) or a directory to scan
        fail_on: error             # error | warning | never
        forbid: ['pyyaml<5.4']     # optional PEP 508 specifiers that are errors
        osv_db: /var/lib/osv/PyPI.zip   # optional; default /var/lib/venvaudit/osv/PyPI.zip (osv_db.sls)
        require_osv_db: True       # optional: fail when no OSV database is found
        ignore:                    # optional accepted findings
          - id: interpreter-eol
            reason: migration planned for Q3
            until: '2026-09-30'

  Other keys under venvaudit:gate are passed to the binary as request keys (checks,
  exclude, max_depth, target_python, ignore_file, ...).
#}
{%- set gate = salt['pillar.get']('venvaudit:gate', {}) %}

include:
  - venvaudit

venvaudit-gate:
  venvaudit.compatible:
    - name: {{ gate.get('name', '/srv/app/venv') | json }}
    - fail_on: {{ gate.get('fail_on', 'error') | json }}
{%- for key, value in gate.items() if key not in ('name', 'fail_on') %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
    - require:
      - file: venvaudit-binary
