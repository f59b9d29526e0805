"""Writes subsets.json: which fact collectors ansible-core's own code selects for each
gather_subset spec (setup's minimal subset, every collector's dependencies), or the error it
raises; and local.json: what the `local` collector makes of each .fact text that is not JSON
(Python's ConfigParser). Run with ansible-core's Python:

    /opt/ansible-venv/bin/python tests/golden/facts/regen.py
"""
import json
import os

from ansible.module_utils.facts import collector, default_collectors
from ansible.module_utils.six.moves import configparser, StringIO

HERE = os.path.dirname(os.path.abspath(__file__))
MINIMAL = frozenset(['apparmor', 'caps', 'cmdline', 'date_time', 'distribution', 'dns', 'env',
                     'fips', 'local', 'lsb', 'pkg_mgr', 'platform', 'python', 'selinux',
                     'service_mgr', 'ssh_pub_keys', 'user'])
SPECS = [
    ['all'], ['!all'], ['min'], ['!min'], ['network'], ['hardware'], ['virtual'],
    ['!all', 'network'], ['!all', 'hardware'], ['!all', 'virtual'], ['!all', '!min'],
    ['!all', '!min', 'network'], ['!all', '!min', 'virtual'], ['!all', '!min', 'hardware'],
    ['!hardware'], ['!network'], ['all', '!hardware'], ['all', '!network', '!virtual'],
    ['processor'], ['mounts'], ['interfaces'], ['default_ipv4'], ['python_version'],
    ['!all', '!min', 'service_mgr'], ['!all', '!min', 'pkg_mgr'], ['!all', '!min', 'env'],
    ['!all', '!min', 'user_id'], ['!facter', '!ohai'], ['all', '!facter', '!ohai'],
    ['min', '!env'], ['!all', '!min', 'local', 'date_time'], ['bogus'], ['!bogus'],
    ['all', 'min', '!min'], ['virtualization_type'], ['distribution_version', '!all'],
]


def subsets():
    out = []
    for spec in SPECS:
        try:
            classes = collector.collector_classes_from_gather_subset(
                all_collector_classes=default_collectors.collectors,
                minimal_gather_subset=MINIMAL,
                gather_subset=spec)
            out.append({'spec': spec, 'collectors': sorted({c.name for c in classes})})
        except TypeError as e:
            out.append({'spec': spec, 'error': str(e)})
    return out


INI = [
    "[general]\nname = web\nport: 80\n",
    "[a]\nKey = Value\n[b]\nx=1\n",
    "[DEFAULT]\nzone = eu\n[site]\nname = x\n",
    "# comment\n; other\n[s]\nk = v # not a comment\n",
    "[s]\nlong = first\n  second\n",
    "[s]\npath = %(home)s/x\nhome = /root\n",
    "[s]\nbad = %(missing)s\n",
    "no header\n",
    "[s]\nk = 1\n[s]\nk = 2\n",
    "[s]\nk = 1\nk = 2\n",
    "[s]\nempty =\nflag\n",
    "",
    "[only]\n",
    "[s]\n  k = v\n",
    "[s]\nk=v\n\n\n[t]\nj = w\n",
]


def ini(text):
    cp = configparser.ConfigParser()
    try:
        cp.read_file(StringIO(text))
    except configparser.Error as e:
        return {'error': type(e).__name__}
    fact = {}
    for sect in cp.sections():
        fact.setdefault(sect, {})
        for opt in cp.options(sect):
            try:
                fact[sect][opt] = cp.get(sect, opt)
            except configparser.Error as e:
                return {'error': type(e).__name__}
    return {'fact': fact}


def main():
    with open(os.path.join(HERE, 'subsets.json'), 'w') as f:
        json.dump(subsets(), f, indent=1)
        f.write('\n')
    with open(os.path.join(HERE, 'local.json'), 'w') as f:
        json.dump([{'text': t, **ini(t)} for t in INI], f, indent=1)
        f.write('\n')


main()
