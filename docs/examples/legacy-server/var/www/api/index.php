<?php
// API front controller stand-in.
header('Content-Type: application/json');
echo json_encode([
    'env' => getenv('APP_ENV') ?: ($_SERVER['REDIRECT_APP_ENV'] ?? null),
    'auth' => $_SERVER['HTTP_AUTHORIZATION'] ?? $_SERVER['REDIRECT_HTTP_AUTHORIZATION'] ?? null,
    'path' => $_SERVER['PATH_INFO'] ?? null,
    'upload_max_filesize' => ini_get('upload_max_filesize'),
]), "\n";
