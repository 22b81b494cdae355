-- The `acr` an ID token carries (Okta's urn:okta:loa:… values): decided when the code is
-- issued (acr_values asked for, or a second factor given) and kept by the grant, so ID tokens
-- from refreshes say the same. NULL: no acr claim.
ALTER TABLE auth_codes ADD COLUMN acr TEXT;
ALTER TABLE grants ADD COLUMN acr TEXT;
