{#-
  Install the venvaudit binary on the minion from salt://venvaudit/files/venvaudit.

  The binary is not in git: build it and copy it into this state tree first (see
  salt/README.md), e.g. `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17`
  for a binary that runs on every glibc >= 2.17 host.

  Where it goes, in the order the execution module looks for it:
    minion config `venvaudit.binary`, pillar `venvaudit:binary`, default /usr/local/bin/venvaudit
#}
{%- set binary = opts.get('venvaudit.binary') or salt['pillar.get']('venvaudit:binary', '/usr/local/bin/venvaudit') %}

venvaudit-binary:
  file.managed:
    - name: {{ binary }}
    - source: salt://venvaudit/files/venvaudit
    # cp.get_file/cp.cache_file drop the exec bit: file.managed sets it
    - mode: '0755'
    - makedirs: True
    # load the venvaudit execution and state modules now that the binary exists, so a
    # venvaudit.compatible state later in the same run can use it
    - reload_modules: True
