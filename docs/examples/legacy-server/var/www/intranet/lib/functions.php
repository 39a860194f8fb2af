<?php
function intranet_header(string $title): string
{
    return '<h1>' . htmlspecialchars($title) . "</h1>\n";
}
