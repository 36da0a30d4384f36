{#-
  Example deploy that only runs when the venvaudit gate passes: a minion whose app venv has
  a broken interpreter (or any finding at or above fail_on) stops here, before new code is
  put in place. Replace `app-release` with your real deploy steps; each one `require`s the
  gate directly or through another state that does.

    app:
      root: /srv/app               # where the release marker goes
      release: '2024.06.1'
    venvaudit:
      gate:
        name: /srv/app/venv
#}
{%- set app = salt['pillar.get']('app', {}) %}

include:
  - venvaudit.gate

app-release:
  file.managed:
    - name: {{ (app.get('root', '/srv/app') ~ '/RELEASE') | json }}
    - contents: {{ app.get('release', 'unreleased') | string | json }}
    - makedirs: True
    - require:
      - venvaudit: venvaudit-gate
