# Throwaway certificate authorities and certificates for the bench (sourced, after lib.sh).
# Keys are EC P-256 in PKCS#8 PEM ("BEGIN PRIVATE KEY"): Go (dockerd, the registry),
# OpenSSL and rustls all read them.

# new_key FILE
new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

# make_ca CERT KEY COMMON_NAME: a self-signed CA, valid ten years.
make_ca() {
  local cert="$1" key="$2" cn="$3"
  new_key "$key"
  openssl req -x509 -new -key "$key" -sha256 -days 3650 -subj "/CN=$cn" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$cert" 2>/dev/null
}

# make_cert CERT KEY CA_CERT CA_KEY COMMON_NAME server|client [SUBJECT_ALT_NAMES]
make_cert() {
  local cert="$1" key="$2" ca="$3" ca_key="$4" cn="$5" usage="$6" san="${7:-}"
  local ext; ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    if [[ "$usage" == server ]]; then echo "extendedKeyUsage=serverAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    [[ -z "$san" ]] || echo "subjectAltName=$san"
  } >"$ext"
  new_key "$key"
  openssl req -new -key "$key" -subj "/CN=$cn" 2>/dev/null \
    | openssl x509 -req -CA "$ca" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 3650 -sha256 -extfile "$ext" -out "$cert" 2>/dev/null
  rm -f "$ext"
}

# cert_ok CERT KEY CA_CERT: CERT is signed by CA_CERT, not expired, and KEY is its key.
cert_ok() {
  local cert="$1" key="$2" ca="$3"
  [[ -s "$cert" && -s "$key" && -s "$ca" ]] || return 1
  openssl verify -CAfile "$ca" "$cert" >/dev/null 2>&1 || return 1
  openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  [[ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" \
    == "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]]
}
