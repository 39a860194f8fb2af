<?php
// Called as /v1/status.php/<check>; relies on PATH_INFO.
header('Content-Type: application/json');
echo json_encode(['ok' => true, 'check' => ltrim($_SERVER['PATH_INFO'] ?? '', '/')]), "\n";
