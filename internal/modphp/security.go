package modphp

import "strings"

// protection is a security setting: why losing it matters, and the
// stored value that protects ("" for any value).
type protection struct {
	why     string
	protect string
}

// protections are the INI settings whose silent loss at the switch opens
// a hole rather than changing behaviour: lint reports losing them as an
// error, not a warning. Keys are lower-case.
var protections = map[string]protection{
	"open_basedir":      {why: "it confines the files PHP may open; without it scripts read any file the pool user can"},
	"disable_functions": {why: "it disables functions (exec, system, …); without it scripts may call them"},
	"disable_classes":   {why: "it disables classes; without them scripts may use them"},
	"upload_tmp_dir":    {why: "it keeps uploads in a directory of their own; without it they land in the system's shared temporary directory"},
	"sys_temp_dir":      {why: "it keeps temporary files in a directory of their own; without it they land in the system's shared temporary directory"},
	"session.save_path": {why: "it keeps sessions apart; without it they land in the shared default directory, readable by other sites' pools"},
	"engine":            {why: "engine off stops scripts from running; php-fpm has no such switch and runs them", protect: "0"},
	"allow_url_include": {why: "off stops include() of remote URLs", protect: "0"},
	"allow_url_fopen":   {why: "off stops scripts from opening remote URLs", protect: "0"},
	"file_uploads":      {why: "off stops file uploads", protect: "0"},
	"enable_dl":         {why: "off stops scripts from loading extensions", protect: "0"},
	"auto_prepend_file": {why: "the prepended file (often a firewall or an access check) runs before every script"},
}

// Protection reports whether losing key set to the stored value (as
// Stored returns it) drops a protection, and why. Settings that only
// change behaviour (memory_limit, display_errors, …) are not protections.
func Protection(key, stored string) (why string, ok bool) {
	p, ok := protections[strings.ToLower(key)]
	if !ok || p.protect != "" && stored != p.protect {
		return "", false
	}
	return p.why, true
}
