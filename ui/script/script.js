/* Offen embed script: placeholder until the collection release. It does nothing and collects nothing. */
