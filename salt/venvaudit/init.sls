{#-
  Install the venvaudit binary on the minion from salt://venvaudit/files/venvaudit-linux-CPUARCH,
  the binary for the minion's grains['cpuarch'], checked against salt://venvaudit/files/SHA256SUMS.

  The binaries are not in git: put those of a release into this state tree first (see
  salt/README.md), e.g.
    tar -xzf venvaudit-0.1.0-x86_64-linux-gnu.tar.gz
    install -m 755 venvaudit-0.1.0-x86_64-linux-gnu/venvaudit salt/venvaudit/files/venvaudit-linux-x86_64
    (cd salt/venvaudit/files && sha256sum venvaudit-linux-* > SHA256SUMS)
  A minion whose cpuarch has no binary fails this state, naming its cpuarch and the shipped ones.

  Where it goes, in the order the execution module looks for it:
    minion config `venvaudit.binary`, pillar `venvaudit:binary`, default /usr/local/bin/venvaudit
#}
{%- set binary = opts.get('venvaudit.binary') or salt['pillar.get']('venvaudit:binary', '/usr/local/bin/venvaudit') %}
{%- set arch = grains['cpuarch'] %}
{%- set shipped = [] %}
{%- for f in salt['cp.list_master'](prefix='venvaudit/files/venvaudit-linux-') %}
{%-   set _ = shipped.append(f.split('venvaudit-linux-')[-1]) %}
{%- endfor %}

{%- if arch in shipped %}
venvaudit-binary:
  file.managed:
    - name: {{ binary }}
    - source: salt://venvaudit/files/venvaudit-linux-{{ arch }}
    - source_hash: salt://venvaudit/files/SHA256SUMS
    - source_hash_name: venvaudit-linux-{{ arch }}
    # cp.get_file/cp.cache_file drop the exec bit: file.managed sets it
    - mode: '0755'
    - makedirs: True
    # load the venvaudit execution and state modules now that the binary exists, so a
    # venvaudit.compatible state later in the same run can use it
    - reload_modules: True
{%- else %}
venvaudit-binary:
  test.fail_without_changes:
    - name: >-
        no venvaudit binary for this minion's cpuarch {{ arch }} in salt://venvaudit/files/
        (shipped: {{ shipped | join(', ') or 'none' }})
{%- endif %}
