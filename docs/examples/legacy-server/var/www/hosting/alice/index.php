<?php
echo 'alice: auto_prepend_file=', ini_get('auto_prepend_file'), "\n";
