<?php
require 'functions.php'; // found through include_path .:/var/www/intranet/lib
echo intranet_header('Timesheets'), 'open_basedir=', ini_get('open_basedir'), "\n";
