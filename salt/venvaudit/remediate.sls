{#-
  Remediation: venvaudit.remediated over the environments named in pillar. It plans (the
  smallest fixing version of each vulnerable, forbidden or drifted distribution), gates each
  wheel with the artefact gate, installs it offline from the wheelhouse with the environment's
  own installer, restarts what the plan names, and re-plans to prove the findings are gone.

    venvaudit:
      remediate:
        name: /srv/app/venv        # required: a venv, a glob (/srv/*/venv) or a directory to plan
        find_links: /srv/wheelhouse   # the offline wheelhouse on the minion (else pip downloads)
        osv_db: /var/lib/venvaudit/osv/PyPI.zip   # optional (osv_db.sls puts it there)
        forbid: ['pyyaml<5.4']     # optional
        lock: /srv/app/requirements.txt   # optional
        restart: True              # restart the units/programs the plan names
        apply_blocked: False       # blocked upgrades are reported, not applied
        verify: True               # re-plan and pip check after the install
        packages: [django]         # optional: only these distributions
        fail_on_unapplied: False   # True: blocked/no-fix/rebuild steps fail the state
        runas: app                 # optional: run pip as the environment's owner

  Or a list of such mappings, one state each (ids venvaudit-remediate-0, -1, ...):

    venvaudit:
      remediate:
        - {name: /srv/api/venv, find_links: /srv/wheelhouse}
        - {name: /srv/worker/venv, find_links: /srv/wheelhouse, restart: False}

  Other keys are passed to the plan as request keys (config_root, exclude, ignore, ...).
  Preview with test=True: nothing is installed or restarted, the plan is in the comment and
  changes.
#}
{%- set remediate = salt['pillar.get']('venvaudit:remediate', {}) %}
{%- if remediate is mapping %}
{%-   set items = [('venvaudit-remediate', remediate)] %}
{%- else %}
{%-   set items = [] %}
{%-   for r in remediate %}
{%-     set _ = items.append(('venvaudit-remediate-' ~ loop.index0, r)) %}
{%-   endfor %}
{%- endif %}

include:
  - venvaudit

{%- for id, r in items %}

{{ id }}:
{%-   if r.get('name') %}
  venvaudit.remediated:
    - name: {{ r['name'] | json }}
{%-     for key, value in r.items() if key != 'name' %}
    - {{ key }}: {{ value | json }}
{%-     endfor %}
    - require:
      - file: venvaudit-binary
{%-   else %}
  test.fail_without_changes:
    - name: "venvaudit.remediate: set pillar venvaudit:remediate:name (the environments to remediate)"
{%-   endif %}
{%- endfor %}
