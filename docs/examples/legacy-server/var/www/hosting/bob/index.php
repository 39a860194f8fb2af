<?php
echo 'bob: display_errors=', ini_get('display_errors'), ' memory_limit=', ini_get('memory_limit'), "\n";
