// Package phpini knows which PHP INI directives may be set from where: the
// access mask ("modifiable") PHP registers for every directive, generated
// from a real PHP build by gen/gen.php.
//
// The mask decides what mod_php does with an .htaccess line. mod_php stores
// php_value and php_flag with PHP_INI_PERDIR and applies them per request with
// zend_alter_ini_entry_chars(name, value, PHP_INI_PERDIR,
// PHP_INI_STAGE_HTACCESS) (php-src sapi/apache2handler/sapi_apache2.c
// apply_config via php_apache_config); zend_alter_ini_entry_ex refuses the
// change when modifiable & PHP_INI_PERDIR is zero, and mod_php ignores the
// failure silently. So a php_value on a PHP_INI_SYSTEM directive such as
// expose_php is accepted by Apache and does nothing
// (docs/behaviour.md#b-modphp-system), while php-fpm applies the same key
// when it arrives as
// PHP_VALUE (§4, E6).
//
// The mask is not the whole story: a directive's on_modify handler can still
// reject a value at a given stage (open_basedir, PHP_INI_ALL, may only be
// tightened at run time). This package reports the mask only.
package phpini

//go:generate sh -c "PHP_INI_SCAN_DIR=/etc/php/8.2/fpm/conf.d php -c /etc/php/8.2/fpm/php.ini gen/gen.php > modes_gen.go"
