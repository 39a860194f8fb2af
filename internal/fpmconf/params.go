package fpmconf

import (
	"maps"
	"slices"
)

// RequestParams are the FastCGI params php-fpm obeys as instructions
// rather than passing them to scripts, with what it does with each
// (sapi/fpm/fpm/fpm_main.c: init_request_info reads PHP_VALUE and
// PHP_ADMIN_VALUE, sapi_cgi_read_post REQUEST_BODY_FILE). php-fpm looks
// them up case-sensitively, so only these spellings matter.
// mod_proxy_fcgi sends every request environment variable as a param, so
// a .htaccess SetEnv can set them; lint reports the lines that do
// (MPM1006) and the migration plan unsets every one of them.
var RequestParams = map[string]string{
	"PHP_VALUE":         "php-fpm applies it as INI settings (even PHP_INI_SYSTEM ones) and keeps them in the worker for later requests of every site on the pool",
	"PHP_ADMIN_VALUE":   "php-fpm applies it as locked INI settings and keeps them in the worker for later requests of every site on the pool",
	"REQUEST_BODY_FILE": "php-fpm reads the request body from that file, an arbitrary file read as the pool user",
}

// RequestParamNames returns the names of RequestParams, sorted.
func RequestParamNames() []string { return slices.Sorted(maps.Keys(RequestParams)) }
