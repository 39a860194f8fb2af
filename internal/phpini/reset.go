package phpini

import "slices"

// RefusesEmpty reports whether PHP refuses to set the directive to the
// empty string after startup: its handler keeps the old value
// (OnUpdateStringUnempty and the like). php-fpm applies PHP_VALUE to the
// worker for good, so once such a directive has a value there, a pool
// whose value for it is empty (the baseline) cannot get that back:
// upload_tmp_dir and sys_temp_dir set for one application stay for every
// later request on that worker. The list is generated from a real
// php-fpm by TestRefusesEmptyReal.
func RefusesEmpty(name string) bool {
	_, ok := slices.BinarySearch(refusesEmpty[:], name)
	return ok
}

// UnresettableByDefault reports whether the directive is one PHP refuses
// to empty (RefusesEmpty) and is empty in the stock php-fpm configuration
// this table was generated from (Debian's php.ini): unless php.ini or the
// pool gives it a value, a worker that has once had it set keeps it.
func UnresettableByDefault(name string) bool {
	_, ok := slices.BinarySearch(unresettableByDefault[:], name)
	return ok
}

// RefusesEmptyNames returns every directive RefusesEmpty reports, sorted.
func RefusesEmptyNames() []string { return slices.Clone(refusesEmpty[:]) }

// UnresettableByDefaultNames returns every directive UnresettableByDefault
// reports, sorted.
func UnresettableByDefaultNames() []string { return slices.Clone(unresettableByDefault[:]) }
