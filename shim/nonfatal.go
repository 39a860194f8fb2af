package shim

import "github.com/modphp-migrate/modphp-migrate/parser"

// skipReason is why a php_* line of an access file is skipped under
// AllowOverride Nonfatal=Override: httpd's invoke_cmd checks the override
// before anything else and, with that flag, logs AH02295 ("php_value in
// .htaccess forbidden by AllowOverride") and goes on with the next line
// instead of answering 500.
const skipReason = "forbidden by AllowOverride: skipped, as httpd skips it under Nonfatal=Override (AH02295)"

// decide applies httpd's override check to an access file of a directory
// where php_value/php_flag are allowed (phpOK) or not, and forbidden ones
// are skipped (nonfatal) or not. It returns the AccessError that refuses
// the request, or the lines skipped (recorded in res.Skipped) and whether
// the file's php lines apply.
func (af *accessFile) decide(phpOK, nonfatal bool, res *Resolution) (bool, error) {
	switch {
	case af.err != nil:
		return false, af.err
	case af.firstPHP == nil:
		return true, nil
	case !phpOK && !nonfatal:
		return false, notAllowed(af)
	case !phpOK:
		for _, l := range af.dir {
			res.skip(l.key, l.pos)
		}
		for i := range af.files {
			for _, l := range af.files[i].lines {
				res.skip(l.key, l.pos)
			}
		}
		for _, p := range af.skipped {
			res.skip("", p)
		}
		return false, nil
	case !nonfatal:
		if af.phpErr != nil {
			return false, af.phpErr
		}
		return true, nil
	}
	if af.phpErrNonfatal != nil {
		return false, af.phpErrNonfatal
	}
	for _, p := range af.skipped {
		res.skip("", p)
	}
	return true, nil
}

// skip records a skipped php_* line (key "" for php_admin_*, whose
// arguments httpd never looks at).
func (res *Resolution) skip(key string, pos parser.Pos) {
	res.Skipped = append(res.Skipped, IgnoredSetting{Key: key, Pos: pos, Reason: skipReason})
}
