<?php
// Prepended to every request of alice's site (when php-fpm obeys PHP_VALUE).
define('ALICE_BOOTSTRAPPED', true);
