#!/bin/bash
# Baseline "migrate"/"restore": validate like prepare, change nothing.
. "${BASH_SOURCE[0]%/*}/lib.sh"
bl_load_conf
bl_parse_domain "$BL_XML_TEXT" || exit 1
bl_mode_now; [[ $REPLY == off ]] && exit 0
bl_check
((n_error)) && [[ ${dom_meta_mode:-$bl_mode} == enforce ]] && { printf '%s\n' "${findings[@]}" >&2; exit 1; }
exit 0
