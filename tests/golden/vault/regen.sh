#!/bin/sh
# Regenerates the vault golden files with the real ansible-vault (ansible-core 2.19):
#   sh tests/golden/vault/regen.sh [path/to/ansible-vault]
# Every file here except plain.yml, the password files and this script is its output.
set -eu
cd "$(dirname "$0")"
AV=${1:-/opt/ansible-venv/bin/ansible-vault}
"$AV" --version | sed -n 1p > ansible-vault.version

# Random salts: only decryption by hactl is checked on these.
rm -f v11.yml v12.yml v11-16bytes.bin
"$AV" encrypt --vault-password-file pw.txt --output v11.yml plain.yml
"$AV" encrypt --vault-id prod@pw-prod.txt --output v12.yml plain.yml
printf '0123456789abcdef' > sixteen.txt
"$AV" encrypt --vault-password-file pw.txt --output v11-16bytes.bin sixteen.txt

# A fixed salt (Ansible's VAULT_ENCRYPT_SALT): hactl must write these byte for byte.
ANSIBLE_VAULT_ENCRYPT_SALT=hactl-golden-salt \
    "$AV" encrypt --vault-password-file pw.txt --output salted-v11.yml plain.yml
ANSIBLE_VAULT_ENCRYPT_SALT=hactl-golden-salt \
    "$AV" encrypt --vault-id prod@pw-prod.txt --output salted-v12.yml plain.yml
ANSIBLE_VAULT_ENCRYPT_SALT=hactl-golden-salt \
    "$AV" encrypt_string --vault-password-file pw.txt --name db_password 'S3cr3t!db' \
    > salted-string.yml 2>/dev/null

# The render fixture: a fully encrypted group_vars file and an inline !vault value.
P=render
"$AV" encrypt --vault-password-file pw.txt --output "$P/group_vars/lbs/vault.yml" "$P/vault-plain.yml"
# A vars_files file under another label (format 1.2).
"$AV" encrypt --vault-id prod@pw-prod.txt --output "$P/secret-vars.yml" "$P/secret-vars-plain.yml"
{
    echo '- hosts: lbs'
    echo '  gather_facts: false'
    echo '  vars:'
    "$AV" encrypt_string --vault-password-file pw.txt --name api_token 'tok-Inline-42' 2>/dev/null \
        | sed 's/^/    /'
    echo '  vars_files:'
    echo '    - secret-vars.yml'
    echo '  tasks:'
    echo '    - name: app config'
    echo '      template:'
    echo '        src: app.conf.j2'
    echo '        dest: /etc/app.conf'
} > "$P/site.yml"
