<?php
// Written by the installer; the installer asked for mode 0666.
define('HTTP_SERVER', 'http://shop.example.test/');
define('DIR_STORAGE', __DIR__ . '/var/');
define('DIR_CACHE', DIR_STORAGE . 'cache/');
define('DB_DRIVER', 'mysqli');
define('DB_HOSTNAME', 'localhost');
define('DB_USERNAME', 'shop');
define('DB_PASSWORD', 'example-not-a-secret');
define('DB_DATABASE', 'shop');
