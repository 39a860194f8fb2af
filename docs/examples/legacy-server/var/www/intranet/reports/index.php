<?php
echo 'memory_limit=', ini_get('memory_limit'), "\n";
