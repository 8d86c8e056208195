/* Self-signed ECDSA P-256 certificate for HTTPS when none is configured. */
#pragma once

/*
 * Make sure dir/tls/cert.pem and dir/tls/key.pem exist: reuse them when both
 * load and match, otherwise make a new self-signed ECDSA P-256 certificate
 * (SAN: localhost, 127.0.0.1, ::1 and the host name) valid for 825 days.
 * The key file is written mode 0600. On success returns 0 and new strings
 * in *cert_path and *key_path (g_free them); otherwise a positive errno and
 * a reason in *why (g_free it).
 */
int tlscert_ensure(const char *dir, char **cert_path, char **key_path, char **why);
