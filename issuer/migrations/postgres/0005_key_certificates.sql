-- HAIP 1.0 X.509 key resolution: the certificate chain the zone's CA issued
-- for a signing key (a JSON array of standard base64 DER, the leaf first,
-- never the anchor), put in the x5c header of what the key signs. NULL: the
-- key has no certificate (the kid path only).
ALTER TABLE signing_keys ADD COLUMN x5c TEXT;
