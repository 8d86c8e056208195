#!/bin/sh
# Fails when one of our libraries exports a symbol in a dependency's namespace
# (STYLE.md: never reuse nice_, lws_, osip_, sdp_message_, srtp_, opus_, ...).
set -eu
bad='^(nice_|lws_|lwsl_|osip_|sdp_message_|srtp_|opus_|stun_message_|g_|gst_|json_|sqlite3_|SSL_|ssl_|EVP_|X509_|BIO_|OPENSSL_|CRYPTO_|ERR_)'
status=0
for lib in "$@"; do
	syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDRBC]/ { print $3 }')
	[ -n "$syms" ] || { echo "$lib: no exported symbols found"; status=1; continue; }
	clash=$(echo "$syms" | grep -E "$bad" || true)
	if [ -n "$clash" ]; then
		echo "$lib exports names in a dependency's namespace:"
		echo "$clash" | sed 's/^/  /'
		status=1
	fi
	echo "$lib: $(echo "$syms" | wc -l) exported symbols checked"
done
exit $status
