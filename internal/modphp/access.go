package modphp

// Override is what httpd grants an access file (.htaccess) in a directory,
// as far as mod_php's directives care.
type Override struct {
	// Options: AllowOverride grants the Options class (All, Options,
	// Options=…), which php_value and php_flag require (OR_OPTIONS).
	Options bool
	// Listed: AllowOverrideList names the directive.
	Listed bool
	// Nonfatal: AllowOverride Nonfatal=Override (or Nonfatal=All) turns a
	// directive the override does not allow into a logged, skipped line.
	Nonfatal bool
}

// Verdict is what httpd does with a mod_php directive in an access file.
type Verdict uint8

const (
	// Accepted: the line is read and its setting stored.
	Accepted Verdict = iota
	// Refused: every request that reads the file answers 500, with
	// NotAllowedError in the error log.
	Refused
	// Skipped: httpd logs the line and ignores it (Nonfatal=Override).
	Skipped
)

// String names the verdict for messages and tests.
func (v Verdict) String() string {
	return [...]string{"accepted", "refused", "skipped"}[v]
}

// InAccessFile returns what httpd does with directive k in an access file
// granted o. php_value and php_flag are OR_OPTIONS: accepted with
// AllowOverride Options (All, Options=…). php_admin_value and
// php_admin_flag are ACCESS_CONF|RSRC_CONF, which no AllowOverride grants:
// refused whatever <IfModule> guard surrounds them. AllowOverrideList
// bypasses the override check for the directives it names — also for
// php_admin_*, whose value then applies from the .htaccess — and
// Nonfatal=Override turns a refusal into a skipped line.
func InAccessFile(k Kind, o Override) Verdict {
	switch {
	case o.Listed || o.Options && !k.Admin():
		return Accepted
	case o.Nonfatal:
		return Skipped
	}
	return Refused
}
