<?php
// Shop front controller stand-in.
require __DIR__ . '/../config.php';
$route = $_GET['_route_'] ?? 'common/home';
header('Content-Type: text/plain; charset=utf-8');
echo 'shop route=', $route, ' max_input_vars=', ini_get('max_input_vars'), "\n";
